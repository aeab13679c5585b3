"""The app as ui.serve starts it: the Streamlit app (app.py and pages/) plus one small route.

`GET /_pact/head?scenario=<id>` answers the latest version number of a scenario from the
process's change feed (ui/room.py head_route), and when asked those of the proposals shown beside
it and the quarter's agreed plan: each screen's browser asks it twice a second, and only news
costs a script run. `streamlit run app.py` still works without it: the live
bar then asks by rerunning itself (docs/room.md).
"""

import streamlit as st

from ui.room import serve_head

app = st.App("app.py", routes=[serve_head()])
