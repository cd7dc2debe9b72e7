# expect: K004 line 2
SIGNING = 'q8Zr3LmN0pXv7TbY2kWc9HsJ4dGf6Ae1'
