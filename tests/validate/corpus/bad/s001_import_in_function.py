# expect: S001 line 3
def run():
    import os
    return os
