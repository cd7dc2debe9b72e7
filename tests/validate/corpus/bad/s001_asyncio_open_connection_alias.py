# expect: S001 line 7 col 17
# profile: standard
from asyncio import open_connection as oc


async def dial():
    return await oc("evil", 1)
