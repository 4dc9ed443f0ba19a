"""The ``ville-autonome`` command line: one entry point, one subcommand per service."""
