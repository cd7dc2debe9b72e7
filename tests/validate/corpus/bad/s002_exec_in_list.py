# expect: S002 line 2
runner = [exec][0]
