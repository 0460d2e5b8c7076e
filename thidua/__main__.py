from thidua.cli import app

app(prog_name="thidua")
