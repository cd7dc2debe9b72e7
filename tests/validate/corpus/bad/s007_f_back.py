# expect: S007 line 3 col 17
def up(frame):
    return frame.f_back
