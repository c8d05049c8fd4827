using Sparsity.Samples.Jackpot;

// The main job (README's first command):
//   dotnet run -c Release --project samples/Sparsity.Samples.Jackpot [-- --help]
// Pre-trains (or reuses) a reference model on Fashion-MNIST, compares pruning criteria without retraining,
// searches a lottery jackpot from the magnitude mask, and writes masks, results.json/csv and plots.
return await JackpotOptions.Command((options, token) => new JackpotJob(options).Run(token)).Parse(args).InvokeAsync();
