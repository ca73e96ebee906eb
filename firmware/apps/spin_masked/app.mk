APP_BOARDS.spin_masked := cortex-m4 mps2-an386
