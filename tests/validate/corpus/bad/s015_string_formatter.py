# expect: S015 line 4
import string

string.Formatter().get_field('0.x', [object], {})
