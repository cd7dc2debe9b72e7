# expect: S011 line 2
value = ｅｖａｌ('1+1')
