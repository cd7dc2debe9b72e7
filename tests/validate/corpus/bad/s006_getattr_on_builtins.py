# expect: S006 line 2
fn = getattr(__builtins__, 'ev' + 'al')
