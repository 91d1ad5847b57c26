<?php
// a worker script packaged on the class path
