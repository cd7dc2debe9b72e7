# expect: S006 line 3 col 24
def call(obj, name):
    return getattr(obj, name)()
