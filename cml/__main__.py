from cml.cli import run

run()
