# imu_steps_bus: imu_steps' pedometer on a board's own IMU chip over its bus, FIFO watermark on an
# EXTI line (the STM32F4 Discovery's LIS3DSH on SPI1, INT1 on PE0).
APP_BOARDS.imu_steps_bus := stm32f4-discovery
