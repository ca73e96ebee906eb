APP_BOARDS.mps2_periph := mps2-an386
