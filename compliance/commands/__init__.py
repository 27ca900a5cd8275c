"""The commands of ``compliance``, one module per command or command group.

:mod:`compliance.cli` is the root group and imports a command's module when the command runs.
:mod:`~compliance.commands.options` declares the options several commands share, once;
:mod:`~compliance.commands.loading` loads the rules and resolves the gate's settings from them,
and :mod:`~compliance.commands.files` writes what a command makes.
"""
