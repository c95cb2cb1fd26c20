from cml.cli import entry

entry()
