"""Every type a board file may name resolves to a model class registered under that name."""

from simcore.peripherals import _MODULES, known_types, model_for


def test_every_known_type_imports_and_registers() -> None:
    for type_name in known_types():
        cls = model_for(type_name)
        assert cls.TYPE == type_name
        cls.check_class()  # SVD-backed models: handlers and field callbacks against their reference table
    assert set(_MODULES) <= known_types()
