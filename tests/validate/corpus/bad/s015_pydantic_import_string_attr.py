# expect: S015 line 4
import pydantic

T = pydantic.ImportString
