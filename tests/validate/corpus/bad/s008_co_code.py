# expect: S008 line 3
def raw(code_obj):
    return code_obj.co_code
