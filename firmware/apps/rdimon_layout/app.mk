APP_KIND.rdimon_layout := rdimon
APP_BOARDS.rdimon_layout := mps2-an386
