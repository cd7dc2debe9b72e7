# expect: S008 line 5
# profile: standard
import types

make = types.FunctionType
