# expect: S018 line 2
# coding=cp500
