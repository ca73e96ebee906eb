# fpu: printf("%f") needs newlib-nano's float formatting pulled in.
APP_LDFLAGS.fpu := -u _printf_float
