DROP TABLE break_glass;
