"""The local language model: which weights (`models`) and how they run (`runtime`)."""
