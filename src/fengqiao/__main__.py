from fengqiao.cli import app

app(prog_name="fengqiao")
