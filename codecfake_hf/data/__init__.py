"""The dataset as loaded: labelled audio from a CodecFake folder, a Hub dataset or a folder of files
(``loading``), the two classes and their names (``labels``), the dataset card whose ``configs:`` say
what each config holds (``dataset_card``), mixture configs (``mixtures``) and the licence of every
corpus, codec and Hub id (``licenses``)."""
