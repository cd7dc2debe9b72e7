# expect: S010 line 3
def snapshot():
    return locals()
