# expect: S007 line 3
def where(exc):
    return exc.__traceback__.tb_frame
