APP_KIND.rdimon_hello := rdimon
APP_BOARDS.rdimon_hello := mps2-an386
