# expect: S018 line 2
# coding: utf-16
