--
-- PostgreSQL database dump
--

\restrict PAY1aYJqNpaZCtngCX0bGI6ZErdMolwL1DZXXmAW0pZukqzQTo1DcpzNDiev3fj

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: pact_actuals; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pact_actuals (
    id character varying(32) NOT NULL,
    scenario_id character varying(32) NOT NULL,
    version integer NOT NULL,
    quarter character varying(16) NOT NULL,
    week integer NOT NULL,
    weeks integer NOT NULL,
    author character varying(200) NOT NULL,
    created_at character varying(40) NOT NULL,
    body text NOT NULL
);


--
-- Name: pact_agreements; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pact_agreements (
    id character varying(32) NOT NULL,
    quarter character varying(16) NOT NULL,
    scenario_id character varying(32) NOT NULL,
    version integer NOT NULL,
    agreed_by character varying(400) NOT NULL,
    agreed_at character varying(40) NOT NULL,
    content_hash character varying(64) NOT NULL,
    superseded_at character varying(40)
);


--
-- Name: pact_meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pact_meta (
    key character varying(40) NOT NULL,
    value character varying(200) NOT NULL
);


--
-- Name: pact_scenarios; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pact_scenarios (
    id character varying(32) NOT NULL,
    name character varying(200) NOT NULL,
    quarter character varying(16) NOT NULL,
    created_at character varying(40) NOT NULL,
    deleted_at character varying(40),
    head integer NOT NULL
);


--
-- Name: pact_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pact_versions (
    scenario_id character varying(32) NOT NULL,
    number integer NOT NULL,
    author character varying(200) NOT NULL,
    created_at character varying(40) NOT NULL,
    content_hash character varying(64) NOT NULL,
    body text NOT NULL
);


--
-- Data for Name: pact_actuals; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.pact_actuals (id, scenario_id, version, quarter, week, weeks, author, created_at, body) FROM stdin;
17afc2691bfc	227a83293a6a	1	2027-Q1	13	13	Sam	2026-12-01T23:18:48.339275+00:00	{"week":13,"weeks":13,"sources":[{"name":"Inbound","counts":{"MQL":160,"SQL":64,"Opportunity":32,"Won":14},"bookings":420000.0},{"name":"Outbound","counts":{"SQL":125,"Opportunity":62,"Won":29},"bookings":810000.0}]}
\.


--
-- Data for Name: pact_agreements; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.pact_agreements (id, quarter, scenario_id, version, agreed_by, agreed_at, content_hash, superseded_at) FROM stdin;
4b074a7d9e8a	2027-Q1	227a83293a6a	1	Maya, Sam	2026-12-01T23:18:48.326163+00:00	5d0e85ff52720a9499d001ce7e1f143c9824df00836577344887cb122faec5b3	\N
\.


--
-- Data for Name: pact_meta; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.pact_meta (key, value) FROM stdin;
schema	3
\.


--
-- Data for Name: pact_scenarios; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.pact_scenarios (id, name, quarter, created_at, deleted_at, head) FROM stdin;
054d74851ae3	Marketing's proposal	2027-Q1	2026-12-01T23:18:47.782874+00:00	\N	6
227a83293a6a	Sales' proposal	2027-Q1	2026-12-01T23:18:48.309262+00:00	\N	1
afcd7d55fdeb	Old idea	2027-Q1	2026-12-01T23:18:48.353091+00:00	2026-12-01T23:18:48.400073+00:00	1
4801c6f463a4	Name with  NUL and ünïcödé	2027-Q1	2026-12-01T23:18:48.403226+00:00	\N	1
\.


--
-- Data for Name: pact_versions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.pact_versions (scenario_id, number, author, created_at, content_hash, body) FROM stdin;
054d74851ae3	1	Maya	2026-12-01T23:18:47.782874+00:00	94fbc67e62c329c9bd93d13e4cca04643349df7ddb3a63aaa002a6bb41d94deb	{\n  "schema_version": 1,\n  "name": "Seed plan",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 164,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
054d74851ae3	2	Maya	2026-12-01T23:18:47.786548+00:00	985d036f59678b23e5f047d7b84a4705ecaf3923331b96136401e06bb0a793bb	{\n  "schema_version": 1,\n  "name": "Seed plan",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 165,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
054d74851ae3	3	Sam	2026-12-01T23:18:48.242168+00:00	e98d73034032d3ee80061677e5ed54c42f658540c0fed16f74660756697775d7	{\n  "schema_version": 1,\n  "name": "Seed plan",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 166,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
054d74851ae3	4	Maya	2026-12-01T23:18:48.254859+00:00	f74de3aca47d812af783ab286b04ff46c309a1898b4213426710dfa5247bcfd8	{\n  "schema_version": 1,\n  "name": "Seed plan",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 167,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
054d74851ae3	5	Sam	2026-12-01T23:18:48.270574+00:00	0b0a2dfffef1bab3abef388c2477188c135c97e5e7228b914e01317268758655	{\n  "schema_version": 1,\n  "name": "Seed plan",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 168,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
054d74851ae3	6	Maya	2026-12-01T23:18:48.280581+00:00	c475b7b10156330c276888087af239fe4a862f87c39df75c943a9647f56574f1	{\n  "schema_version": 1,\n  "name": "Marketing's proposal",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 168,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
227a83293a6a	1	Sam	2026-12-01T23:18:48.309262+00:00	5d0e85ff52720a9499d001ce7e1f143c9824df00836577344887cb122faec5b3	{\n  "schema_version": 1,\n  "name": "Sales' proposal",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 190,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
afcd7d55fdeb	1	Sam	2026-12-01T23:18:48.353091+00:00	9a7850f74324482cd667e2b231284d1b5d3fce3562ff0ff331979a8b74c5cd47	{\n  "schema_version": 1,\n  "name": "Old idea",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 168,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
4801c6f463a4	1	Zoë	2026-12-01T23:18:48.403226+00:00	ae5f587ceb39fcf80077f701c61b791c96096e16f9061102fd0f080aadf33888	{\n  "schema_version": 1,\n  "name": "Name with \\u0000 NUL and ünïcödé",\n  "quarter": "2027-Q1",\n  "metric": "customers",\n  "target": 55,\n  "marketing_share": 0.5,\n  "deal_size": {\n    "mean": 30000,\n    "cv": 0.6\n  },\n  "sources": [\n    {\n      "name": "Inbound",\n      "owner": "marketing",\n      "stages": [\n        "MQL",\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 170,\n        "dist": "poisson"\n      },\n      "rates": [\n        {\n          "mean": 0.75\n        },\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45,\n          "n": 80\n        }\n      ]\n    },\n    {\n      "name": "Outbound",\n      "owner": "sales",\n      "stages": [\n        "SQL",\n        "Opportunity",\n        "Won"\n      ],\n      "volume": {\n        "mean": 123,\n        "dist": "fixed"\n      },\n      "rates": [\n        {\n          "mean": 0.5\n        },\n        {\n          "mean": 0.45\n        }\n      ]\n    }\n  ]\n}\n
\.


--
-- Name: pact_actuals pact_actuals_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_actuals
    ADD CONSTRAINT pact_actuals_pkey PRIMARY KEY (id);


--
-- Name: pact_agreements pact_agreements_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_agreements
    ADD CONSTRAINT pact_agreements_pkey PRIMARY KEY (id);


--
-- Name: pact_meta pact_meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_meta
    ADD CONSTRAINT pact_meta_pkey PRIMARY KEY (key);


--
-- Name: pact_scenarios pact_scenarios_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_scenarios
    ADD CONSTRAINT pact_scenarios_pkey PRIMARY KEY (id);


--
-- Name: pact_versions pact_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_versions
    ADD CONSTRAINT pact_versions_pkey PRIMARY KEY (scenario_id, number);


--
-- Name: pact_actuals_quarter; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX pact_actuals_quarter ON public.pact_actuals USING btree (quarter, created_at);


--
-- Name: pact_actuals pact_actuals_scenario_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_actuals
    ADD CONSTRAINT pact_actuals_scenario_id_fkey FOREIGN KEY (scenario_id) REFERENCES public.pact_scenarios(id);


--
-- Name: pact_agreements pact_agreements_scenario_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_agreements
    ADD CONSTRAINT pact_agreements_scenario_id_fkey FOREIGN KEY (scenario_id) REFERENCES public.pact_scenarios(id);


--
-- Name: pact_versions pact_versions_scenario_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pact_versions
    ADD CONSTRAINT pact_versions_scenario_id_fkey FOREIGN KEY (scenario_id) REFERENCES public.pact_scenarios(id);


--
-- PostgreSQL database dump complete
--

\unrestrict PAY1aYJqNpaZCtngCX0bGI6ZErdMolwL1DZXXmAW0pZukqzQTo1DcpzNDiev3fj

