# expect: S002 line 3
def debug():
    breakpoint()
