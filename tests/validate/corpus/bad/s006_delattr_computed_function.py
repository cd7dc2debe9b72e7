# expect: S006 line 3
def drop(obj, name):
    delattr(obj, name)
