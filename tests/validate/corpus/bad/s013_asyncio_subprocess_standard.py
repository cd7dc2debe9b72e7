# expect: S013 line 5 col 16
# profile: standard
import asyncio

spawn = asyncio.create_subprocess_exec
