# expect: S002 line 2
code = compile('1', '<s>', 'eval')
