"""Work the bot asks for when a chat does: maps, heatmaps and accuracy, each made once
however many ask and kept while fresh."""
