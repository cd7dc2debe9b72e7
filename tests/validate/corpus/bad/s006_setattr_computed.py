# expect: S006 line 3
def patch(obj, name, value):
    setattr(obj, name, value)
