"""The ``liqmap`` command line: the composition root that wires settings, exchanges, storage, jobs
and the bot. One module per command group."""
