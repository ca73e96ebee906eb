# imu_steps_bus: imu_steps' pedometer on a board's own IMU chip over its bus, FIFO watermark on an
# EXTI line (the STM32F4 Discovery's LIS3DSH on SPI1, INT1 on PE0; the B-L475E-IOT01A's LSM6DSL on I2C2,
# INT1 on PD11).
APP_DEPS.imu_steps_bus := common/step_detector.h
APP_BOARDS.imu_steps_bus := stm32f4-discovery b-l475e-iot01a
