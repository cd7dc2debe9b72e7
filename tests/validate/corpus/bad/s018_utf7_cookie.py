# expect: S018 line 2
# -*- coding: utf-7 -*-
# +AAo-import os
