# expect: S015 line 4
import typing

ref = typing.ForwardRef('os')
