-- The exposure bias (EXIF ExposureBiasValue, EV) of each photo: frames of one burst shot at
-- different biases are an exposure bracket, whose best pick is the camera's metered frame.
ALTER TABLE photos ADD COLUMN exposure_bias real;
