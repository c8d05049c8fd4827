namespace Sparsity.Models.Tests;

[Collection(SequentialCollection.Name)]
public class ReferenceModelsTests
{
    [Fact]
    public void Names_are_the_documented_list()
    {
        ReferenceModels.Names.Should().Equal(
            "lenet300", "lenet5", "vgg11", "vgg16", "vgg19", "resnet20", "resnet32", "resnet56", "resnet18", "resnet50");
    }

    [Theory]
    [InlineData("lenet300", typeof(LeNet300100))]
    [InlineData("LeNet5", typeof(LeNet5))]
    [InlineData("VGG16", typeof(Vgg))]
    [InlineData("resnet56", typeof(CifarResNet))]
    [InlineData("resnet18", typeof(ResNet))]
    public void Create_builds_the_named_type(string name, Type type)
    {
        using var model = ReferenceModels.Create(name, 3, 10);
        model.Should().BeOfType(type);
    }

    [Fact]
    public void Create_sets_depths_and_shortcut()
    {
        using var vgg = (Vgg)ReferenceModels.Create("vgg19", 3, 10);
        vgg.Depth.Should().Be(19);
        using var resnet = (CifarResNet)ReferenceModels.Create("resnet32", 3, 10);
        resnet.Depth.Should().Be(32);
        resnet.Shortcut.Should().Be(ResNetShortcut.ZeroPadIdentity);
    }

    [Fact]
    public void Unknown_name_lists_the_valid_names()
    {
        var act = () => ReferenceModels.Create("resnet21", 3, 10);
        var error = act.Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be("name");
        foreach (var name in ReferenceModels.Names)
            error.Message.Should().Contain(name);
    }

    [Theory]
    [InlineData(0, 10, "inputChannels")]
    [InlineData(3, 0, "classCount")]
    public void Bad_sizes_name_the_argument(int channels, int classes, string parameter)
    {
        var act = () => ReferenceModels.Create("lenet5", channels, classes);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(parameter);
    }

    [Fact]
    public void Bad_depths_name_the_argument()
    {
        ((Action)(() => new Vgg(12, 3, 10))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("depth");
        ((Action)(() => new CifarResNet(21, 3, 10))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("depth");
        ((Action)(() => new ResNet(20, 3, 10))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("depth");
        ((Action)(() => new CifarResNet(20, 3, 10, (ResNetShortcut)7))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("shortcut");
        ((Action)(() => new LeNet300100(1, 10, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("imageSize");
    }

    [Fact]
    public void LeNet300100_rejects_a_wrongly_sized_input_before_libtorch()
    {
        using var model = new LeNet300100(1, 10);
        using var x = TorchSharp.torch.zeros(2, 3, 32, 32);
        var act = () => model.call(x);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("input");
    }
}
