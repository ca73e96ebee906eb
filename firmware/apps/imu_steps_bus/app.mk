# imu_steps_bus: imu_steps' pedometer on a board's own IMU chip over its bus, FIFO read by interrupt (the
# STM32F4 Discovery's LIS3DSH on SPI1, INT1 on PE0 / EXTI0; the B-L475E-IOT01A's LSM6DSL on I2C2, INT1 on
# PD11 / EXTI11; the Nano 33 BLE Sense Rev2's BMI270 on TWIM1, INT1 on P0.11 / GPIOTE) or on a timer tick
# where the board wires no IMU interrupt (the Nano 33 BLE Sense Rev1's LSM9DS1 on TWIM1, RTC1).
APP_DEPS.imu_steps_bus := common/step_detector.h common/nano_imu.h common/discovery_lis3dsh.h $(wildcard apps/imu_steps_bus/*.h)
APP_BOARDS.imu_steps_bus := stm32f4-discovery b-l475e-iot01a arduino-nano-33-ble-sense arduino-nano-33-ble-sense-rev2
