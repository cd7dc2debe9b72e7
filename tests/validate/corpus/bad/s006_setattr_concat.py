# expect: S006 line 3
def poke(obj):
    setattr(obj, 'a' + 'b', 1)
