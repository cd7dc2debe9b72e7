# expect: S018 line 2
x = 1  # note  here
