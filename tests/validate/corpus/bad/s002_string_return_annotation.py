# expect: S002 line 2
def f() -> "exec('import os')":
    return None
