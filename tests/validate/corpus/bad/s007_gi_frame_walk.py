# expect: S007 line 7
def gen():
    yield 1


g = gen()
frame = g.gi_frame
