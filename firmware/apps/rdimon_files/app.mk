APP_KIND.rdimon_files := rdimon
APP_BOARDS.rdimon_files := mps2-an386
