# expect: S011 line 2
pаssword_len = 3
