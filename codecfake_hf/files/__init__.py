"""Files in and out, safely: written whole or not at all (``atomic_files``), JSON the project wrote
(``json_files``), checkpoints read without running them (``checkpoint_files``) and loaded strictly
(``strict_loading``), downloads not on the Hub (``downloads``), Hub fetches and pushes (``hub_io``),
and where a ``--model`` or ``--dataset`` comes from, a folder or a Hub repo (``sources``)."""
