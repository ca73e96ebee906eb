# regs_probe: touches registers simcore reports (simcore/reports.py); the generic board only
APP_BOARDS.regs_probe := cortex-m4
